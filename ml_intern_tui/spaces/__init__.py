"""Remote sandboxes on Hugging Face Spaces: creation, the API client, remote tools, cost."""
