"""Evidence: canonical JSON, (de)serialisation, report attachments, signing, verification."""
