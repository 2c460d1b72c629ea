"""The NTPT language: model files, their compiler, runner and listing."""
