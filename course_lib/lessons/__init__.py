"""What only the notebooks use: the test-cell checks and each notebook's own helpers.

``checks`` (test-cell helpers and each exercise's catalogue of likely mistakes), ``xor``
(notebook 05), ``surfaces`` (notebook 06's loss surfaces and races), ``overfitting`` (notebook
07's experiment), ``capstone`` (notebook 09: the learner's pieces from my_nn.py, the
network's references, the initialisation study), ``validate`` (the Validate button's dialog in
the learner's JupyterLab: a server extension that leads with the failed checks). They build on
the library below them and nothing imports them back.
"""
