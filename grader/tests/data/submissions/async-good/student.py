import asyncio


async def part(i):
    await asyncio.sleep(0.01)
    return i


async def main():
    parts = await asyncio.gather(*(part(i) for i in range(7)))
    extra = await asyncio.to_thread(sum, [1, 2, 3])
    return sum(parts) + extra + 15
