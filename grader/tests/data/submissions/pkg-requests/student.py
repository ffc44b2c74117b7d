from concurrent.futures import ThreadPoolExecutor

import requests


def fetch_all(urls):
    with requests.Session() as session, ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda u: session.get(u, timeout=5).status_code, urls))
