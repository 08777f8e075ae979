"""Serve the API with uvicorn: `python -m shop`."""

import uvicorn

from shop.app import create_app
from shop.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
