"""The catalogue of likely mistakes, kept out of the notebooks' visible check cells.

A check cell states what it checks in a few lines; the wrong answers it recognises, and the hint
each one gets, live here. A hint names the mistake ("the bias seems to be missing") and never
prints the corrected line.

``CHECK_CELLS``: each graded check cell's id (its nbgrader grade_id) -> (the exercise functions it
calls through ``checks.call``, its points). ``checks`` reads it to say "not attempted yet: 0 of N
points" and ``my_nn.save`` to tell which functions passed all their checks. tests/test_checks.py
keeps it equal to the notebooks' metadata.
"""

from __future__ import annotations

CHECK_CELLS: dict[str, tuple[tuple[str, ...], int]] = {
    'test_linear_forward': (('linear_forward',), 1),  # 01_forward_propagation
    'test_sigmoid_forward': (('sigmoid_forward',), 1),  # 01_forward_propagation
    'test_relu_forward': (('relu_forward',), 1),  # 01_forward_propagation
    'test_leaky_relu_forward': (('leaky_relu_forward',), 1),  # 01_forward_propagation
    'test_tanh_forward': (('tanh_forward',), 1),  # 01_forward_propagation
    'test_softmax': (('softmax',), 1),  # 01_forward_propagation
    'test_forward': (('forward',), 1),  # 01_forward_propagation
    'test_forward_caches': (('forward',), 1),  # 01_forward_propagation
    'test_half_squared_error': (('half_squared_error',), 1),  # 02_loss_functions
    'test_mse': (('mse',), 1),  # 02_loss_functions
    'test_binary_cross_entropy': (('binary_cross_entropy',), 2),  # 02_loss_functions
    'test_categorical_cross_entropy': (('categorical_cross_entropy',), 2),  # 02_loss_functions
    'test_softmax_cross_entropy': (('softmax_cross_entropy',), 2),  # 02_loss_functions
    'test_sigmoid_backward': (('sigmoid_backward',), 1),  # 03_backpropagation
    'test_relu_backward': (('relu_backward',), 1),  # 03_backpropagation
    'test_tanh_backward': (('tanh_backward',), 1),  # 03_backpropagation
    'test_linear_backward': (('linear_backward',), 1),  # 03_backpropagation
    'test_numerical_gradient': (('numerical_gradient',), 1),  # 03_backpropagation
    'test_gradient_check': (('gradient_check',), 1),  # 03_backpropagation
    'test_two_layer_backward': (('two_layer_backward',), 2),  # 03_backpropagation
    'test_find_the_bug': (('gradient_report', 'fixed_backward'), 1),  # 03_backpropagation
    'test_gradient_descent_step': (('gradient_descent_step',), 1),  # 04_learning_rate
    'test_minibatches': (('minibatches',), 2),  # 04_learning_rate
    'test_linear_decay': (('linear_decay',), 2),  # 04_learning_rate
    'test_train_neuron': (('train_neuron',), 3),  # 04_learning_rate
    'test_least_squares': (('least_squares',), 2),  # 05_xor
    'test_add_feature_cross': (('add_feature_cross',), 1),  # 05_xor
    'test_relu_network': (('relu_network',), 2),  # 05_xor
    'test_train_network': (('train_network',), 2),  # 05_xor
    'test_symmetry_experiment': (('symmetry_experiment',), 2),  # 05_xor
    'test_momentum_update': (('momentum_update',), 2),  # 06_optimizers
    'test_adagrad_update': (('adagrad_update',), 2),  # 06_optimizers
    'test_rmsprop_update': (('rmsprop_update',), 2),  # 06_optimizers
    'test_adam_update': (('adam_update',), 2),  # 06_optimizers
    'test_cost_and_gradient': ((), 1),  # 06_optimizers
    'test_l2_penalty': (('l2_penalty',), 1),  # 07_regularization
    'test_l2_penalty_gradient': (('l2_penalty',), 1),  # 07_regularization
    'test_dropout_forward_training': (('dropout_forward',), 1),  # 07_regularization
    'test_dropout_forward_inference': (('dropout_forward',), 1),  # 07_regularization
    'test_dropout_backward': (('dropout_backward',), 1),  # 07_regularization
    'test_early_stopping': (('early_stopping',), 1),  # 07_regularization
    'test_early_stopping_ties_min_delta': (('early_stopping',), 1),  # 07_regularization
    'test_regularization_settings': (('regularization_settings',), 1),  # 07_regularization
    'test_batchnorm_forward_training': (('batchnorm_forward',), 1),  # 08_batch_normalization
    'test_batchnorm_forward_running': ((), 1),  # 08_batch_normalization
    'test_batchnorm_forward_inference': ((), 1),  # 08_batch_normalization
    'test_batchnorm_backward_params': (('batchnorm_backward',), 1),  # 08_batch_normalization
    'test_batchnorm_backward_dx': (('batchnorm_backward',), 2),  # 08_batch_normalization
    'test_count_parameters': (('count_parameters',), 1),  # 08_batch_normalization
    'test_count_parameters_batchnorm': (('count_parameters',), 1),  # 08_batch_normalization
}
