# proxmox-k3s-ha: prints the SCRAM-SHA-256 verifier PostgreSQL stores for the password in $PKH_SCRAM_PASSWORD
# (RFC 5802 and 7677, as PostgreSQL's own client-side hashing builds it: 4096 iterations, a 16-byte random salt).
# `ALTER ROLE … PASSWORD '<verifier>'` then sets the password without the password itself ever reaching the server,
# its network path or its logs. Letters and digits only, so SASLprep leaves the password as it is.
# Usage: PKH_SCRAM_PASSWORD=... python3 postgres-scram-verifier.py
import base64
import hashlib
import hmac
import os
import re
import sys

ITERATIONS = 4096


def b64(data):
    return base64.b64encode(data).decode('ascii')


def main():
    password = os.environ.get('PKH_SCRAM_PASSWORD', '')
    if not re.fullmatch(r'[A-Za-z0-9]+', password):
        sys.exit('postgres-scram-verifier.py: PKH_SCRAM_PASSWORD must be set to letters and digits')
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac('sha256', password.encode('ascii'), salt, ITERATIONS)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    print('SCRAM-SHA-256${0}:{1}${2}:{3}'.format(ITERATIONS, b64(salt), b64(stored_key), b64(server_key)))


main()
