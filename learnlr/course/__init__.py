"""The course's machinery: exercises that check themselves, grading, and the chapters' helpers.

======================  ===============================================================
module                  what it holds
======================  ===============================================================
``checks``              self-checking exercises: a student's answer against a reference
``coursework``          student copies of the notebooks and grading of a class
                        (``python -m learnlr.course.coursework``)
``grader``              grading one submission in a sandboxed process (``_worker``)
``claims``              chapter 11's verdict rules: seeds, intervals, four outcomes
``ch02_momentum``       chapter 2's experiments (momentum)
``ch03_adaptive``       chapters 3 and 4 (AdaGrad, RMSProp, Adadelta)
``ch05_adam``           chapters 5 and 6 (Adam and its relatives)
``ch07_schedules``      chapters 7 and 8 (schedules, warmup, plateaus)
``ch09_finder``         chapter 9 (the learning-rate finder)
======================  ===============================================================

A chapter helper holds what a reader need not see to follow the lesson (a gallery's knobs,
an experiment's bookkeeping); what the lesson is about is computed in the notebook.
"""
