"""nbgrader's settings in every user's server (deploy/hub/jupyterhub_config.py puts this folder on JUPYTER_CONFIG_PATH)."""
import os

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "d2lrnn"
c.Exchange.root = os.environ.get("D2LRNN_EXCHANGE", "/srv/nbgrader/exchange")
