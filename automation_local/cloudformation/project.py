"""Where the project's files are, so every tool resolves them the same way."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
SAMCONFIG_PATH = REPO_ROOT / "samconfig.toml"
SOURCE_DIR = REPO_ROOT / "src"
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
