"""Packaging: SCORM 1.2, SCORM 2004 and cmi5 packages of Ripple's courses and scenarios.

Ripple builds the package an agency imports into its LMS, then acts as the content when the LMS
launches it: the learner is matched by (package, learner id) and all state stays in Ripple.
"""
