import asyncio


async def save(log):
    log.append("saved")


async def main():
    log = []
    save(log)
    await asyncio.sleep(0.01)
    return 42
