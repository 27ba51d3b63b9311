"""Flask extensions, created unbound here and bound in ``create_app``.

Nothing in this module does I/O: connections are opened lazily on first use.
"""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from pelubot_web.key_rotation import RotatingLoginManager
from pelubot_web.metrics import Metrics

# Deterministic constraint names so Alembic migrations are reproducible on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = RotatingLoginManager()
csrf = CSRFProtect()
# Key function and storage are refined in create_app (per API key, Redis storage).
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
metrics = Metrics()
