import asyncio


async def consumer(queue):
    return await queue.get()


async def main():
    queue = asyncio.Queue()
    task = asyncio.create_task(consumer(queue), name="consumer")
    return await task
