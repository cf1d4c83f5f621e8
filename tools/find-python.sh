#!/usr/bin/env sh
# Print the path of a Python >= 3.12 interpreter: $PYTHON if set, else the first suitable
# python3.13/python3.12/python3 on PATH, else one managed by pyenv. Exit 1 if none.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
if [ -n "${PYTHON:-}" ]; then
  if ok "$PYTHON"; then command -v "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not Python >= 3.12" >&2; exit 1
fi
for name in python3.12 python3.13 python3; do
  p=$(command -v "$name" 2>/dev/null) || continue
  if ok "$p"; then echo "$p"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | sort -V); do
    for name in python3.12 python3.13; do
      p=$(PYENV_VERSION="$v" pyenv which "$name" 2>/dev/null) || continue
      if ok "$p"; then echo "$p"; exit 0; fi
    done
  done
fi
echo "capmodel needs Python >= 3.12: none found on PATH or in pyenv (set PYTHON=/path/to/python3.12)" >&2
exit 1
