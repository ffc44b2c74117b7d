import asyncio
import time

import requests


async def one(url):
    try:
        time.sleep(0.01)
        return requests.get(url, timeout=5).status_code
    except Exception:
        return None


def fetch_all(urls):
    async def main():
        return await asyncio.gather(*(one(u) for u in urls))
    return asyncio.run(main())
