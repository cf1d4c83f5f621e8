from capmodel.cli import main

raise SystemExit(main())
