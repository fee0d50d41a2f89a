"""The demo: the real Đống Đa district and its 2024 campaign with believable reports, for
`seed_demo` and `rundemo` (and for scale work, grown to N synthetic units).

district.py builds the tree and the people, reports.py the rows of R1, R2 and R5, seed.py puts
them together with every other rule's builder (`Rule.demo`; R3 and R4: breakthroughs/demo.py).
This package may import anything below it in the campaign app; nothing imports it but the
management commands and the tests.
"""

from .seed import (
    CAMPAIGN_CODE,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DemoDataExists,
    Summary,
    seed_demo,
    wipe_demo_data,
)

__all__ = [
    "CAMPAIGN_CODE",
    "DEFAULT_PASSWORD",
    "DEFAULT_SEED",
    "DemoDataExists",
    "Summary",
    "seed_demo",
    "wipe_demo_data",
]
