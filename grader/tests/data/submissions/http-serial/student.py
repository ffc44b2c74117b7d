import urllib.error
import urllib.request


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def fetch_all(urls):
    return [status(u) for u in urls]
