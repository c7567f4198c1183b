from crosspromo.cli.main import run

run()
