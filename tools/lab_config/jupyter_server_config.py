"""make lab's server settings (tools/lab.py puts this folder in JUPYTER_CONFIG_PATH).

Notebooks open clean: JupyterLab marks a notebook unsaved (●) as soon as its kernel starts when
the kernel's ``language_info`` (Python's exact version among it) differs from the one stored in
the file, and the course's notebooks cannot store every learner's Python version. Served
notebooks get this Python's ``language_info`` (the kernels run on this same Python), so nothing
changes when the kernel starts; the file on disk is only rewritten when the learner saves.
"""

import platform

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": platform.python_version(),
}


class CourseContentsManager(AsyncLargeFileManager):
    """Notebooks served with this Python's full ``language_info`` (what ipykernel reports)."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):  # noqa: A002
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get("type") == "notebook" and model.get("content") is not None:
            metadata = model["content"].setdefault("metadata", {})
            if metadata.get("language_info", {}).get("name", "python") == "python":
                metadata["language_info"] = dict(LANGUAGE_INFO)
        return model


c = get_config()  # noqa: F821 (traitlets injects get_config into config files)
c.ServerApp.contents_manager_class = CourseContentsManager
