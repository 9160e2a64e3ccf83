"""An independent Web Push receiver for tests: makes a browser-like key pair, and
decrypts what our server sent with http-ece (RFC 8291, aes128gcm), checking the
VAPID JWT (RFC 8292) against the key in its Authorization header.

  webpush.py keygen                      -> {"private": ..., "p256dh": ..., "auth": ...}
  webpush.py decrypt KEYS BODY AUTHZ AUD -> {"payload": ..., "claims": ..., "vapid_key": ...}
"""
import base64
import json
import sys

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def keygen():
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    import os

    print(json.dumps({"private": private, "p256dh": b64e(public), "auth": b64e(os.urandom(16))}))


def verify_vapid(authorization, audience):
    # "vapid t=<jwt>, k=<key>"
    assert authorization.startswith("vapid "), authorization
    parts = dict(p.strip().split("=", 1) for p in authorization[len("vapid "):].split(","))
    token, key = parts["t"], parts["k"]
    header_b64, claims_b64, sig_b64 = token.split(".")
    header = json.loads(b64d(header_b64))
    assert header["alg"] == "ES256", header
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    sig = b64d(sig_b64)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(b64d(claims_b64))
    assert claims["aud"] == audience, (claims, audience)
    return claims, key


def decrypt(keys_path, body_path, authorization, audience):
    keys = json.load(open(keys_path))
    private = serialization.load_pem_private_key(keys["private"].encode(), password=None)
    body = open(body_path, "rb").read()
    payload = http_ece.decrypt(body, private_key=private, auth_secret=b64d(keys["auth"]), version="aes128gcm")
    claims, vapid_key = verify_vapid(authorization, audience)
    print(json.dumps({"payload": json.loads(payload), "claims": claims, "vapid_key": vapid_key}))


if __name__ == "__main__":
    if sys.argv[1] == "keygen":
        keygen()
    else:
        decrypt(*sys.argv[2:6])
