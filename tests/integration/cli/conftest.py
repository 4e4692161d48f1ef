from tests.integration.api.conftest import backends  # noqa: F401 - shared session fixture
