from wta_runtime.cli import app

app()
