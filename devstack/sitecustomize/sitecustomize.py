"""Dev-only interpreter start-up for processes that run against the local twin.

`make` puts this folder on PYTHONPATH for the demo, the tests and the local Airflow. It registers
an import hook that applies `snowseg_twin.hook_shim` the moment the Snowflake provider's hook module
is imported -- nothing is imported eagerly, so start-up cost is nil.
"""

import importlib.abc
import importlib.util
import sys

_TARGET = "airflow.providers.snowflake.hooks.snowflake"


class _ShimFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module):
            original_exec(module)
            from snowseg_twin import hook_shim

            hook_shim.apply(module)

        loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _ShimFinder())
