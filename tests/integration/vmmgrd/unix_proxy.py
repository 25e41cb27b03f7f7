#!/usr/bin/env python3
"""unix_proxy.py LISTEN TARGET - forwards connections on Unix socket LISTEN to
Unix socket TARGET, so a test can cut a libvirt connection (kill the proxy)
and restore it (start it again) without touching the shared libvirtd."""
import asyncio
import os
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main(listen, target):
    async def handle(cr, cw):
        try:
            tr, tw = await asyncio.open_unix_connection(target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, tw), pipe(tr, cw))

    if os.path.exists(listen):
        os.unlink(listen)
    server = await asyncio.start_unix_server(handle, path=listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
