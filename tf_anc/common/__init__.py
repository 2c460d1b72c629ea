"""What both systems stand on: the only part of tf_anc ntpt_keras imports."""
