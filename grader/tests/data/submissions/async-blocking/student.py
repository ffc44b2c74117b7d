import asyncio
import time


async def fetch(i):
    await asyncio.sleep(0)
    time.sleep(0.25)
    return i


async def main():
    await asyncio.gather(*(fetch(i) for i in range(2)))
    return 42
