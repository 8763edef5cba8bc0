"""Silences one log line that Beam writes on import and that helps nobody here."""

import logging


def _not_apitools_notice(record: logging.LogRecord) -> bool:
    # Beam's GCP module logs this on import whenever the [gcp] extra is not installed: noise
    # for everyone not on Dataflow, and those who are install the extra anyway.
    return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_not_apitools_notice)
