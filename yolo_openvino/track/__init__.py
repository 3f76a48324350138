"""Multi-object tracking: ByteTrack and BoT-SORT (without re-identification), our own, from the papers.

``Tracker`` follows one stream frame by frame; ``load_tracker_config`` reads the reference's tracker yaml files.
"""

from .config import TrackerConfig, load_tracker_config
from .tracker import TrackedBoxes, Tracker

__all__ = ["TrackedBoxes", "Tracker", "TrackerConfig", "load_tracker_config"]
