#!/usr/bin/env python3
"""Uploads FILE to Azurite as a blob in a container with anonymous (public blob) read access,
signing with the emulator's well-known Shared Key (stdlib only). bench/run.sh then GETs it
anonymously with wrk. usage: azurite_put.py PORT FILE"""
import base64
import hashlib
import hmac
import http.client
import sys
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
KEY = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
port, path = int(sys.argv[1]), sys.argv[2]


def send(method, resource, query, headers, body=b""):
    headers = {**headers, "x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
    length = str(len(body)) if body else ""
    canon_headers = "".join(f"{k}:{v}\n" for k, v in sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-ms-")))
    canon_resource = f"/{ACCOUNT}/{ACCOUNT}{resource}" + "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
    to_sign = "\n".join([method, "", "", length, "", headers.get("Content-Type", ""), "", "", "", "", "", ""]) + "\n" + canon_headers + canon_resource
    sig = base64.b64encode(hmac.new(KEY, to_sign.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = f"SharedKey {ACCOUNT}:{sig}"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    url = f"/{ACCOUNT}{resource}" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    c.request(method, url, body, headers)
    r = c.getresponse()
    text = r.read()
    if r.status not in (201,):
        sys.exit(f"azurite {method} {url}: {r.status} {text[:300]!r}")


send("PUT", "/bench", {"restype": "container"}, {"x-ms-blob-public-access": "blob"})
data = open(path, "rb").read()
send("PUT", "/bench/cluster.json", {}, {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/json"}, data)
