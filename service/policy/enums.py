from enum import StrEnum


class NearMissPotential(StrEnum):
    LOW = "low"
    HIGH = "high"


class ReasonCode(StrEnum):
    """Why a postmortem is owed; one code per rule of the policy."""

    SEVERITY = "severity"
    DURATION = "duration"
    CUSTOMER_IMPACT = "customer_impact"
    DATA_LOSS = "data_loss"
    SECURITY = "security"
    NEAR_MISS = "near_miss"
    REPEAT = "repeat"
