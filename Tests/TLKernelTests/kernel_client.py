"""Drives `tl --kernel` as Jupyter does, through jupyter_client, and checks each part of the
messaging protocol. Prints `PASS name` or `FAIL name: why` per check; exits 1 if any failed.

    TL_BINARY=/path/to/tl python3 kernel_client.py
"""
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Interop"))
import tl_kernelspec  # noqa: F401,E402 (sets up the tl kernel for jupyter_client)

from jupyter_client.manager import start_new_kernel  # noqa: E402
from jupyter_client.session import Session  # noqa: E402

failures = 0


def check(name, condition, why=""):
    global failures
    if condition:
        print(f"PASS {name}")
    else:
        failures += 1
        print(f"FAIL {name}: {why}")


km, kc = start_new_kernel(kernel_name="tl", startup_timeout=30)


def run(code, timeout=60):
    """Executes code; returns the reply's content and the IOPub messages it caused (type, content)."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append((msg["msg_type"], msg["content"]))
    reply = kc.get_shell_msg(timeout=timeout)
    return reply["content"], outputs


def of_type(outputs, kind):
    return [content for t, content in outputs if t == kind]


def request(method, *args):
    msg_id = getattr(kc, method)(*args)
    while True:
        reply = kc.get_shell_msg(timeout=10)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


try:
    info = request("kernel_info")
    content = info["content"]
    check("kernel_info", content["status"] == "ok" and content["implementation"] == "tl"
          and content["language_info"]["name"] == "tl" and content["protocol_version"].startswith("5."), content)

    reply, outputs = run("1 + 1")
    results = of_type(outputs, "execute_result")
    check("execute_result", reply["status"] == "ok" and len(results) == 1 and results[0]["data"]["text/plain"] == "2"
          and results[0]["execution_count"] == reply["execution_count"], outputs)
    check("execute_input", of_type(outputs, "execute_input") == [{"code": "1 + 1", "execution_count": reply["execution_count"]}], outputs)
    check("busy_then_idle", outputs[0] == ("status", {"execution_state": "busy"}), outputs[:1])

    reply, outputs = run('print("hello", 42)')
    streams = of_type(outputs, "stream")
    check("stream", reply["status"] == "ok" and streams == [{"name": "stdout", "text": "hello 42\n"}], outputs)

    reply, outputs = run("x = undefined_name")
    errors = of_type(outputs, "error")
    check("error", reply["status"] == "error" and len(errors) == 1
          and errors[0]["evalue"] == "name 'undefined_name' is not defined"
          and errors[0]["traceback"][1:] == ["    x = undefined_name", "        ^~~~~~~~~~~~~~"], errors)
    reply, outputs = run("1 +* 2")
    check("syntax_error", reply["status"] == "error" and reply["ename"] == "SyntaxError", reply)

    reply, outputs = run("plot([1, 4, 9], title=\"squares\")")
    shown = of_type(outputs, "display_data")
    check("figure_svg", len(shown) == 1 and shown[0]["data"]["image/svg+xml"].startswith("<svg")
          and "squares" in shown[0]["data"]["image/svg+xml"], [list(d["data"]) for d in shown])

    reply, outputs = run("show(digits(3))")
    shown = of_type(outputs, "display_data")
    check("image_png", len(shown) == 1 and shown[0]["data"]["image/png"].startswith("iVBORw0KGgo"), [list(d["data"]) for d in shown])

    run("my_model = mlp([4, 8, 2])")
    reply, outputs = run("my_model")
    results = of_type(outputs, "execute_result")
    check("model_as_html", len(results) == 1 and results[0]["data"]["text/html"].startswith("<table>")
          and "<td style=\"text-align: left\">Linear(4 → 8)</td>" in results[0]["data"]["text/html"]
          and "Linear(4 → 8)" in results[0]["data"]["text/plain"], results)
    reply, outputs = run("show(evaluate(mlp([2352, 10]), digits(20)))")
    shown = of_type(outputs, "display_data")
    check("report_as_html", len(shown) == 1 and shown[0]["data"]["text/html"].count("<table>") == 2
          and "confusion" in shown[0]["data"]["text/plain"], shown)
    reply = request("complete", "pri", 3)["content"]
    check("complete_builtin", "print" in reply["matches"] and reply["cursor_start"] == 0 and reply["cursor_end"] == 3, reply)
    code = "train(my_model, digits(10), epo"
    reply = request("complete", code, len(code))["content"]
    check("complete_keyword", "epochs=" in reply["matches"] and reply["cursor_start"] == len(code) - 3, reply)
    reply = request("complete", "my_mo", 5)["content"]
    check("complete_name", reply["matches"] == ["my_model"], reply)
    reply = request("complete", "my_model.pa", 11)["content"]
    check("complete_property", reply["matches"] == ["my_model.params"] and reply["cursor_start"] == 0, reply)

    reply = request("inspect", "train(", 6, 0)["content"]
    check("inspect_builtin", reply["found"] and reply["data"]["text/plain"].startswith("train(m"), reply)
    reply = request("inspect", "my_model", 3, 0)["content"]
    check("inspect_value", reply["found"] and "Linear(4 → 8)" in reply["data"]["text/plain"], reply)
    reply = request("inspect", "nothing_here", 4, 0)["content"]
    check("inspect_unknown", not reply["found"], reply)

    for code, expected in [("x = 1", "complete"), ("for i in range(3) {", "incomplete"), ("f(1,", "incomplete"),
                           ("x = )", "invalid")]:
        reply = request("is_complete", code)["content"]
        check(f"is_complete {code!r}", reply["status"] == expected, reply)

    reply = request("history")["content"]
    check("history", reply["status"] == "ok" and reply["history"] == [], reply)
    msg = kc.session.msg("comm_info_request", {})
    kc.shell_channel.send(msg)
    reply = kc.get_shell_msg(timeout=10)["content"]
    check("comm_info", reply == {"status": "ok", "comms": {}}, reply)

    reply, outputs = run(":help dann")
    check("shell_command", reply["status"] == "ok" and "gradient reversal" in "".join(s["text"] for s in of_type(outputs, "stream")).lower(),
          outputs[:3])

    # Training: the progress bar is one display updated in place; the epoch lines are text.
    reply, outputs = run("net = mlp([2352, 16, 10])\nh = train(net, digits(300), epochs=2, batch=10)")
    displays = of_type(outputs, "display_data")
    updates = of_type(outputs, "update_display_data")
    ids = {d["transient"]["display_id"] for d in displays + updates}
    check("progress_display", reply["status"] == "ok" and len(displays) == 1 and len(updates) >= 1 and len(ids) == 1
          and updates[-1]["data"]["text/plain"] == "", (len(displays), len(updates), ids))
    text = "".join(s["text"] for s in of_type(outputs, "stream"))
    check("epoch_lines", "epoch 1" in text and "epoch 2" in text, text[:300])

    # An interrupt during training stops it at the next batch and keeps every binding.
    run("kept = 7")
    msg_id = kc.execute("big = mlp([2352, 512, 512, 10])\nh = train(big, digits(6000), epochs=50, batch=16)")
    started = False
    deadline = time.time() + 60
    while time.time() < deadline and not started:
        msg = kc.get_iopub_msg(timeout=60)
        started = msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] in ("display_data", "update_display_data")
    time.sleep(0.3)
    km.interrupt_kernel()
    t0 = time.time()
    reply = kc.get_shell_msg(timeout=30)["content"]
    check("interrupt", reply["status"] == "ok" and time.time() - t0 < 10, reply)
    reply, outputs = run("print(kept, h.epochs < 50, big.params)")
    check("bindings_kept", of_type(outputs, "stream") == [{"name": "stdout", "text": "7 true 1472522\n"}], outputs)
    # An interrupt on the control channel (interrupt_mode "message") does the same.
    msg_id = kc.execute("h2 = train(big, digits(6000), epochs=50, batch=16)")
    started = False
    while not started:
        msg = kc.get_iopub_msg(timeout=60)
        started = msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] in ("display_data", "update_display_data")
    kc.control_channel.send(kc.session.msg("interrupt_request", {}))
    control = kc.get_control_msg(timeout=10)
    reply = kc.get_shell_msg(timeout=30)["content"]
    check("interrupt_message", control["msg_type"] == "interrupt_reply" and reply["status"] == "ok", (control["content"], reply))
    reply, outputs = run("print(h2.epochs < 50)")
    check("interrupt_message_stopped", of_type(outputs, "stream") == [{"name": "stdout", "text": "true\n"}], outputs)

    # A message signed with another key is dropped; the kernel goes on answering.
    forged = Session(key=b"not-the-key", session=kc.session.session)
    forged.send(kc.shell_channel.socket, "execute_request", {"code": "forged = 1", "silent": False, "store_history": True,
                                                             "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    try:
        kc.get_shell_msg(timeout=2)
        check("bad_signature_dropped", False, "the kernel replied to a forged message")
    except Exception:
        reply, outputs = run("print(forged)")
        check("bad_signature_dropped", reply["status"] == "error" and "'forged' is not defined" in reply["evalue"], reply)

    # A frame past the kernel's limit (64 MiB) is refused before it is held: ZeroMQ drops the
    # connection, the client reconnects, and the kernel goes on answering with every binding.
    run("before_huge = 7")
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"0" * 64, b"{}", b"{}", b"{}", b"x" * (65 << 20)])
    time.sleep(1)
    reply, outputs = run("print(before_huge)")
    check("huge_frame_refused", of_type(outputs, "stream") == [{"name": "stdout", "text": "7\n"}], outputs)

    # Shell commands in cells.
    reply, outputs = run(":vars")
    check("vars_command", "my_model" in "".join(s["text"] for s in of_type(outputs, "stream")), outputs)
    reply, outputs = run(":time x = 2 + 2")
    check("time_command", reply["status"] == "ok" and "s" in "".join(s["text"] for s in of_type(outputs, "stream")), outputs)
    run(":reset")
    reply, outputs = run("my_model")
    check("reset_command", reply["status"] == "error" and "'my_model' is not defined" in reply["evalue"], reply)

    km.shutdown_kernel(now=False)
    deadline = time.time() + 10
    while km.is_alive() and time.time() < deadline:
        time.sleep(0.1)
    check("shutdown", not km.is_alive(), "the kernel is still running")

    # SIGTERM (or SIGHUP) ends the kernel promptly, with 128 + the signal.
    km, kc = start_new_kernel(kernel_name="tl", startup_timeout=30)
    run("x = 1")
    km.provisioner.process.send_signal(signal.SIGTERM)
    status = km.provisioner.process.wait(timeout=10)
    check("sigterm", status == 143, status)

    # ...and while a cell runs: the cell stops at its next safe point and the kernel ends too
    # (the signal came while no wait for a message was under way).
    km, kc = start_new_kernel(kernel_name="tl", startup_timeout=30)
    msg_id = kc.execute("i = 0; while i < 1000000000 { i = i + 1 }")
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    time.sleep(0.3)
    km.provisioner.process.send_signal(signal.SIGTERM)
    status = km.provisioner.process.wait(timeout=10)
    check("sigterm_during_cell", status == 143, status)

    # Under a small memory budget, values that grow past it end their cell with an error; the
    # kernel and its bindings stay.
    km, kc = start_new_kernel(kernel_name="tl", startup_timeout=30, env={**os.environ, "TL_MEMORY_BUDGET": "128M"})
    run("kept = 41; s = \"ab\"")
    reply, outputs = run("for i in range(40) { s = s + s }")
    check("memory_budget_error", reply["status"] == "error" and "more than is left of the memory budget of 128 MiB" in reply["evalue"], reply)
    reply, outputs = run("print(kept + 1, len(s) > 1000000)")
    check("memory_budget_bindings_kept", of_type(outputs, "stream") == [{"name": "stdout", "text": "42 true\n"}], outputs)
    km.shutdown_kernel(now=True)
except Exception:
    failures += 1
    print("FAIL exception: " + traceback.format_exc().replace("\n", " | "))
finally:
    if km.is_alive():
        km.shutdown_kernel(now=True)

sys.exit(1 if failures else 0)
