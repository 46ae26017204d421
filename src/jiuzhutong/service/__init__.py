"""Use cases: apply the domain rules, call the store, write the audit trail.

Imports store, domain, contract and security — never fastapi or sqlalchemy.
"""

from jiuzhutong.service.services import Services, build_services

__all__ = ["Services", "build_services"]
