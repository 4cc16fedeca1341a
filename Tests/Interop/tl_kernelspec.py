"""A throwaway Jupyter data directory whose `tl` kernel is $TL_BINARY, for the tests that start the
kernel through jupyter_client or nbclient. Import it before jupyter_client: it sets JUPYTER_PATH
and JUPYTER_DATA_DIR."""
import json
import os
import tempfile

data_dir = tempfile.mkdtemp(prefix="tl-kernelspec-")
os.makedirs(os.path.join(data_dir, "kernels", "tl"))
with open(os.path.join(data_dir, "kernels", "tl", "kernel.json"), "w") as f:
    json.dump({"argv": [os.environ["TL_BINARY"], "--kernel", "{connection_file}"], "display_name": "tl",
               "language": "tl", "interrupt_mode": "signal"}, f)
os.environ["JUPYTER_PATH"] = data_dir
os.environ["JUPYTER_DATA_DIR"] = data_dir
