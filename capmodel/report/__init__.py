"""Reports of fits: one self-contained HTML page per fit (``report``), and a LOO comparison
page of several fits (``compare``). See docs/report.md."""

from capmodel.report.compare import Comparison, compare
from capmodel.report.fitreport import SECTIONS, build_page, report, report_fit_dir

__all__ = ["SECTIONS", "Comparison", "build_page", "compare", "report", "report_fit_dir"]
