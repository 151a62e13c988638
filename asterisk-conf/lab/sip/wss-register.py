"""Lab only (docs/deploy-tested.md): register a WebRTC endpoint over SIP-over-WebSocket as a browser (JsSIP)
does, to check pjsip-webrtc.conf and http.conf's TLS without a browser: REGISTER, 401, REGISTER with digest,
200; then answer Asterisk's qualify OPTIONS (as JsSIP does) for SECONDS. The certificate is not verified (a
lab's self-signed one). No media: a call to the endpoint cannot be answered with this.

    python wss-register.py wss://127.0.0.1:8089/ws agent9 PASSWORD [SECONDS]
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import ssl
import sys
import uuid

import aiohttp


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def register(user: str, call_id: str, tag: str, cseq: int, auth: str = "") -> str:
    branch = "z9hG4bK" + uuid.uuid4().hex[:12]
    return (
        f"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS lab.invalid;branch={branch}\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: <sip:{user}@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@lab.invalid;transport=ws>\r\n"
        f"{auth}Expires: 60\r\nUser-Agent: acd-lab-wss\r\nContent-Length: 0\r\n\r\n"
    )


async def main(url: str, user: str, password: str, seconds: float) -> None:
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    async with aiohttp.ClientSession() as session, session.ws_connect(url, protocols=("sip",), ssl=tls) as ws:
        await ws.send_str(register(user, call_id, tag, 1))
        challenge = (await ws.receive()).data
        print(challenge.splitlines()[0])
        realm = re.search(r'realm="([^"]+)"', challenge)
        nonce = re.search(r'nonce="([^"]+)"', challenge)
        if realm is None or nonce is None:
            raise SystemExit("no digest challenge")
        response = md5(f"{md5(f'{user}:{realm[1]}:{password}')}:{nonce[1]}:{md5('REGISTER:sip:127.0.0.1')}")
        auth = (f'Authorization: Digest username="{user}", realm="{realm[1]}", nonce="{nonce[1]}", '
                f'uri="sip:127.0.0.1", response="{response}", algorithm=MD5\r\n')
        await ws.send_str(register(user, call_id, tag, 2, auth))
        print((await ws.receive()).data.splitlines()[0])

        async def answer_options() -> None:
            async for message in ws:
                lines = message.data.split("\r\n")
                if lines[0].startswith("OPTIONS"):
                    keep = [h for h in lines if h.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
                    ok = "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n"
                    await ws.send_str(ok)
                    print("answered", lines[0])

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(answer_options(), seconds)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 60))
