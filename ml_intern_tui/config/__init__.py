"""Settings: TOML layers merged, ``${VAR}``-substituted and validated into ``AppConfig``.

Importing this package is cheap (pydantic and the standard library only); ``tomlkit`` is
loaded by the write functions in ``config.writer`` when they run.
"""

from ml_intern_tui.config.loader import ConfigError, LoadedConfig, load_config
from ml_intern_tui.config.schema import AppConfig

__all__ = ["AppConfig", "ConfigError", "LoadedConfig", "load_config"]
