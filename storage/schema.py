"""The whole schema: importing this registers every feature's tables on `Base.metadata`.

Feature modules (outbox, papers, accountability) define their tables next to their repositories; Alembic
and the schema tests need them all, so they import `metadata` from here rather than from storage.models.
"""

from __future__ import annotations

from storage import accountability, buddies, outbox, papers, web
from storage.models import Base

FEATURES = (accountability, buddies, outbox, papers, web)
metadata = Base.metadata
