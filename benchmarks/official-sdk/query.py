"""Pages BD_Customer out of a K/3 Cloud (fake) with Kingdee's official
Python SDK (kingdee-cdp-webapi-sdk) and prints the figures line the
`official-sdk` benchmark binary reads:

    MEASURED <rows> <wall seconds> <cpu seconds> <peak RSS KiB>

Usage: query.py <server_url> <expected rows> <page size>
The credentials are the fake's defaults (kingdee_cloud::testing).
"""
import json
import resource
import sys
import time

from k3cloud_webapi_sdk.main import K3CloudApiSdk

ACCT_ID = "62a1b2c3d4e5f6"
USER_NAME = "demo"
APP_ID = "224466_T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq"
APP_SECRET = "b3f1c0e5a8d94e6f9c2b7a1d0e3f4a5b"


def peak_kib():
    """VmHWM of this process (ru_maxrss would include the parent's resident
    set at fork time, before exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    server_url, expected, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sdk = K3CloudApiSdk(server_url)
    sdk.InitConfig(ACCT_ID, USER_NAME, APP_ID, APP_SECRET, server_url)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    rows = 0
    start = 0
    while True:
        text = sdk.ExecuteBillQuery({
            "FormId": "BD_Customer",
            "FieldKeys": "FCUSTID,FNumber,FName",
            "FilterString": "",
            "OrderString": "",
            "TopRowCount": 0,
            "StartRow": start,
            "Limit": limit,
            "SubSystemId": "",
        })
        page = json.loads(text)
        if page and isinstance(page[0], list) and page[0] and isinstance(page[0][0], dict):
            raise SystemExit("the fake refused the SDK's request: " + text[:500])
        rows += len(page)
        start += limit
        if len(page) < limit:
            break
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    if rows != expected:
        print(f"expected {expected} rows, got {rows}", file=sys.stderr)
    print(f"MEASURED {rows} {seconds} {cpu} {peak_kib()}")


if __name__ == "__main__":
    main()
