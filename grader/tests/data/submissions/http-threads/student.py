import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def fetch_all(urls):
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(status, urls))
