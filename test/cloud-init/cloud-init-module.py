#!/usr/bin/python3
"""Runs one of cloud-init's real file modules on a user-data file, as cloud-init's stages do:
    cloud-init-module.py write_files|write_files_deferred USER_DATA
write_files runs in cloud-init's first stage (files without `defer`), write_files_deferred in its last stage after
the packages (files with `defer: true`). A module that raises ends this with status 1 and the exception on stderr,
as cloud-init logs a failed module and goes on with the next one.
"""
import inspect
import logging
import sys

import yaml
from cloudinit.config import cc_write_files, cc_write_files_deferred

MODULES = {'write_files': cc_write_files, 'write_files_deferred': cc_write_files_deferred}


class Distro:
    default_owner = 'root:root'


class Cloud:
    distro = Distro()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODULES:
        print(f'usage: {sys.argv[0]} {"|".join(MODULES)} USER_DATA', file=sys.stderr)
        return 2
    name, path = sys.argv[1], sys.argv[2]
    with open(path, encoding='utf-8') as file:
        cfg = yaml.safe_load(file)
    handle = MODULES[name].handle
    # cloud-init 22 passes a logger; 24 dropped the parameter.
    args = (name, cfg, Cloud(), logging.getLogger(name), []) if 'log' in inspect.signature(handle).parameters else (name, cfg, Cloud(), [])
    try:
        handle(*args)
    except Exception as error:  # what cloud-init's module runner catches and logs
        print(f'{name} failed: {type(error).__name__}: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
