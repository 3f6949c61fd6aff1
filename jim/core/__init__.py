"""The transport-neutral core: who may send what to whom, what is stored, who is told."""
