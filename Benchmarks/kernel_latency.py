"""The tl kernel's latency as a Jupyter front end sees it:
- start-up: from starting `tl --kernel` to the first kernel_info_reply (the client retries until
  the kernel answers, as Jupyter does), over several starts; measured twice: with ZeroMQ's default
  reconnect interval (100 ms: a client that connects before the kernel has bound waits that long
  to try again, as Jupyter's do) and with 5 ms, which shows the kernel's own start-up;
- a trivial execute's round trip: execute_request of `1` to its execute_reply, many times.
Prints medians with min–max (--json: one line of JSON, in milliseconds, as the peers of
Benchmarks/peers print; scripts/bench runs it that way for tl and for ipykernel).

    /usr/bin/python3 Benchmarks/kernel_latency.py [--tl PATH] [--starts 10] [--executes 300] [--json]
    /usr/bin/python3 Benchmarks/kernel_latency.py --kernel VENV/bin/python -m ipykernel_launcher -f   (a peer)
"""
import argparse
import json
import os
import zmq
import statistics
import subprocess
import tempfile
import time

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file


def milliseconds(values):
    values = [v * 1000 for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summary(name, values, unit="ms"):
    s = milliseconds(values)
    print(f"{name}: median {s['median']:.2f} {unit} (min {s['min']:.2f}, max {s['max']:.2f}, n {s['n']})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tl", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "tl"))
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--executes", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the figures as one line of JSON (milliseconds)")
    parser.add_argument("--kernel", nargs=argparse.REMAINDER, help="another kernel's command before its connection file, for comparison "
                        "(e.g. --kernel /venv/bin/python -m ipykernel_launcher -f)")
    args = parser.parse_args()
    args.command = args.kernel or [args.tl, "--kernel"]
    trips, results = [], {}
    for reconnect in [None, 5]:
        starts = []
        for i in range(args.starts):
            starts.append(start_once(args, reconnect, trips if reconnect is None and i == 0 else None))
        results["start_default_reconnect" if reconnect is None else "start_fast_reconnect"] = milliseconds(starts)
        if not args.json:
            summary("start to kernel_info_reply" + (f" (client reconnect interval {reconnect} ms)" if reconnect else " (ZeroMQ's default reconnect interval)"), starts)
    results["execute"] = milliseconds(trips)
    if args.json:
        print(json.dumps({"bench": "kernel_latency", "unit": "ms", "command": args.command, "results": results}))
    else:
        summary("execute round trip ('1')", trips)


def start_once(args, reconnect, trips):
    if True:
        path = os.path.join(tempfile.mkdtemp(), "kernel.json")
        write_connection_file(path, key=os.urandom(16).hex().encode())
        client = BlockingKernelClient(connection_file=path)
        if reconnect:
            client.context.setsockopt(zmq.RECONNECT_IVL, reconnect)  # the default context: later clients too
        client.load_connection_file()
        client.start_channels()
        t0 = time.perf_counter()
        kernel = subprocess.Popen(args.command + [path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reply = None
        while reply is None:
            msg_id = client.kernel_info()
            try:
                while True:
                    msg = client.get_shell_msg(timeout=0.005)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg
                        break
            except Exception:
                pass
        started = time.perf_counter() - t0
        if trips is not None:
            for _ in range(args.executes):
                t = time.perf_counter()
                msg_id = client.execute("1", silent=False)
                while True:
                    msg = client.get_shell_msg(timeout=10)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        break
                trips.append(time.perf_counter() - t)
        client.shutdown()
        kernel.wait(timeout=10)
        client.stop_channels()
        return started


if __name__ == "__main__":
    main()
