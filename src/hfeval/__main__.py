from hfeval.cli import app

app()
