"""The template as CloudFormation sees it: loaded and translated by samtranslator, and
deployed into the emulator as a stack (`DeployedStack`); where the project's files are."""
