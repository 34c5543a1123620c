"""The search tests' fixtures: the API tests' moto stack (built once per module, emptied before each
test) and the notifier tests' spy on the DynamoDB calls a function makes."""

from tests.unit.api.conftest import _stack, aws  # noqa: F401  (fixtures, shared)
from tests.unit.notify.conftest import calls  # noqa: F401  (fixture, shared)
