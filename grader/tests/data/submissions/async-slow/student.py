import asyncio


async def main():
    await asyncio.sleep(30)
    return 42
