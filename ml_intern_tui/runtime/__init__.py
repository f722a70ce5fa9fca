"""The composition root: wiring the loop, its tools and services (``agent``), and the
backend that makes model clients and reads saved sessions (``backend``)."""
