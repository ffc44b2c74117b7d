import asyncio


async def worker():
    raise ValueError("worker failed")


async def main():
    asyncio.create_task(worker(), name="worker")
    await asyncio.sleep(0.05)
    return 42
