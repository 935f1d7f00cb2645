"""Concurrent writers for the benchmark: N keep-alive connections posting messages for a while.

Run by bench/run.py as its own process:
    python bench/writers.py --port P --seconds 30 --jobs jobs.json
where jobs.json lists {"token": ..., "thread": id} per writer. Each writer posts to its thread
as fast as the server answers; after the time is up it finishes the request in flight, so every
request sent has an answer. Prints one line "BENCH_JSON {...}": requests, 201s, errors, the ids
the server returned, and latency percentiles in microseconds.
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.stats import percentile


async def post_loop(
    port: int, job: dict, deadline: float, latencies: list, ids: list, errors: list
):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sequence = 0
    try:
        while time.monotonic() < deadline:
            sequence += 1
            body = json.dumps({"text": f"bench message {sequence}"}).encode()
            request = (
                f"POST /api/threads/{job['thread']}/messages/ HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {job['token']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            if status == 201:
                ids.append(json.loads(payload)["id"])
            else:
                errors.append(f"{status} {payload[:200]!r}")
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
        errors.append(repr(error))
    finally:
        writer.close()


def percentile_us(seconds: list[float], share: float) -> int:
    return int(percentile(seconds, share) * 1_000_000) if seconds else 0


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--jobs", required=True)
    args = parser.parse_args()
    with open(args.jobs) as jobs_file:
        jobs = json.load(jobs_file)
    latencies, ids, errors = [], [], []
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(
        *(post_loop(args.port, job, deadline, latencies, ids, errors) for job in jobs)
    )
    elapsed = time.monotonic() - started
    result = {
        "requests": len(latencies),
        "created": len(ids),
        "duration_us": int(elapsed * 1_000_000),
        "errors": len(errors),
        "error_samples": errors[:5],
        "ids": ids,
        "p50": percentile_us(latencies, 0.50),
        "p95": percentile_us(latencies, 0.95),
        "p99": percentile_us(latencies, 0.99),
        "max": percentile_us(latencies, 1.0),
    }
    print("BENCH_JSON " + json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
