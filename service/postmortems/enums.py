from enum import StrEnum


class Severity(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Template(StrEnum):
    STANDARD = "standard"
    QUICK = "quick"


class Status(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    COMPLETE = "complete"
