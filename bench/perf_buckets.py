#!/usr/bin/env python3
"""perf_buckets.py — sums a flat perf profile into where a bulk transfer's
CPU goes: AES, HMAC-SHA-256, the EVP calls around them, libssh2, memcpy,
the kernel, our own code. See bench/README.md, "Where the time goes".

usage: perf report -i FILE --no-children --sort dso,sym -g none |
           bench/perf_buckets.py

Debian 12's libcrypto.so.3 has no symbols for its assembler routines, so
perf names them by address; they are told apart here by address ranges
of that build (OpenSSL 3.0, libssl3 3.0.x+deb12): the SHA-256 block
functions sit just before SHA256_Init, the AES-NI ones just after the
AES_* C functions, and the two provider functions on EVP_Cipher's path
were found with valgrind --tool=callgrind's caller tree. Another build
needs its own ranges (readelf -Ws --dyn-syms, readelf -wf)."""
import bisect
import re
import subprocess
import sys

LIBCRYPTO = "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"
SHA256_ASM = (0x29A000, 0x29F770)  # up to SHA256_Init's neighbour SHA224_Init
AESNI_ASM = (0xD4100, 0xE2000)     # after AES_ige_encrypt
EVP_PATH_FUNCS = {0x33DBA0, 0x340CC0}  # called once per EVP_Cipher call

AES = "AES-CTR rounds (AES-NI)"
EVP = "EVP call path around AES"
MAC = "HMAC-SHA-256"


def function_starts(lib):
    """(start, end) of every function, from the unwind tables."""
    out = subprocess.run(["readelf", "-wf", lib], capture_output=True,
                         text=True, check=False).stdout
    spans = [(int(a, 16), int(b, 16)) for a, b in
             re.findall(r"FDE cie=\w+ pc=([0-9a-f]+)\.\.([0-9a-f]+)", out)]
    spans.sort()
    return spans


SPANS = function_starts(LIBCRYPTO)
STARTS = [a for a, _ in SPANS]


def containing_function(addr):
    i = bisect.bisect_right(STARTS, addr) - 1
    if i >= 0 and addr < SPANS[i][1]:
        return SPANS[i][0]
    return None


def libcrypto_bucket(sym):
    if sym.startswith("0x"):
        addr = int(sym, 16)
        if SHA256_ASM[0] <= addr < SHA256_ASM[1]:
            return MAC
        if AESNI_ASM[0] <= addr < AESNI_ASM[1]:
            return AES
        if containing_function(addr) in EVP_PATH_FUNCS:
            return EVP
        return "libcrypto, other"
    if re.match(r"(SHA256|HMAC|EVP_MAC|EVP_Digest|EVP_MD)", sym):
        return MAC
    if re.match(r"(EVP_Cipher|EVP_CIPHER|CRYPTO_ctr128|EVP_Encrypt|"
                r"EVP_Decrypt)", sym):
        return EVP
    return "libcrypto, other"


def bucket(dso, sym):
    if dso.startswith("[kernel"):
        return "kernel (syscalls, TCP, copies to and from sockets)"
    if dso.startswith("libcrypto"):
        return libcrypto_bucket(sym)
    if dso.startswith("libssh2"):
        return "libssh2 (packets, its per-block cipher loop)"
    if dso.startswith("libc"):
        if "mem" in sym and ("cpy" in sym or "move" in sym):
            return "memcpy/memmove"
        return "libc, other"
    if dso in ("ftp-tunnel", "ftp-tunneld", "raw_libssh2", "ssh"):
        return "the program itself (" + dso + ")"
    return "other: " + dso


def main():
    totals = {}
    for line in sys.stdin:
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if m:
            b = bucket(m.group(2), m.group(3))
            totals[b] = totals.get(b, 0.0) + float(m.group(1))
    for b, pct in sorted(totals.items(), key=lambda kv: -kv[1]):
        print("%6.1f%%  %s" % (pct, b))


if __name__ == "__main__":
    main()
