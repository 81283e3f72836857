"""The ``cropsm`` command line: thin click commands over :mod:`cropsm.pipelines`.

Each command parses its options, calls one library function and prints its result;
errors are reported as :mod:`cropsm.cli._errors` describes.
"""

from __future__ import annotations

import click

from cropsm.cli._errors import CropSMGroup
from cropsm.cli.catalog import catalog
from cropsm.cli.demo import demo
from cropsm.cli.drought import bulletin, climatology, trends
from cropsm.cli.ingest import ingest
from cropsm.cli.network import network
from cropsm.cli.predict import predict
from cropsm.cli.train import train, validate

__all__ = ["main"]


@click.group(cls=CropSMGroup)
@click.version_option(package_name="cropsm")
def main() -> None:
    """CropSM: daily 1 km soil moisture for China's dryland wheat and maize."""


for command in (demo, ingest, catalog, train, validate, predict, network, climatology,
                bulletin, trends):
    main.add_command(command)
