import asyncio


async def heartbeat():
    while True:
        await asyncio.sleep(0.01)


async def main():
    asyncio.create_task(heartbeat(), name="heartbeat")
    await asyncio.sleep(0.02)
    return 42
